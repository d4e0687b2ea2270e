"""CSV exports for finance's spreadsheets. Every request is checked by require_reports_key."""

import csv
import io
from datetime import date

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select

from deps import DbSession, require_reports_key
from models import Order

router = APIRouter(tags=["reports"], dependencies=[Depends(require_reports_key)])


@router.get("/orders-per-day.csv")
async def orders_per_day(db: DbSession, start: date, end: date):
    day = func.date(Order.created_at)
    query = select(day, func.count(Order.id)).where(day.between(start, end)).group_by(day).order_by(day)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["day", "orders"])
    writer.writerows(db.execute(query))
    buffer.seek(0)
    return StreamingResponse(buffer, media_type="text/csv")
