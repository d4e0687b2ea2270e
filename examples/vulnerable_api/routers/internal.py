"""Calls from the warehouse worker inside the cluster."""

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, status

from auth import decode_service_token
from deps import DbSession
from models import Order

router = APIRouter(tags=["internal"])


@router.post("/orders/{order_id}/ship", status_code=status.HTTP_204_NO_CONTENT)
async def mark_shipped(order_id: int, db: DbSession, x_service_token: Annotated[str | None, Header()] = None):
    # "The ingress does not route /internal, so only the warehouse worker can reach this."
    # The token is optional "until every worker sends one"; it only records who shipped.
    order = db.get(Order, order_id)
    if order is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="No such order")
    order.status = "shipped"
    order.shipped_by = decode_service_token(x_service_token)["sub"] if x_service_token else "warehouse"
    db.commit()
