"""Events from the payment provider, each one signed (see deps.verified_payment_event)."""

from fastapi import APIRouter, status

from deps import DbSession, PaymentEvent
from models import Order

router = APIRouter(tags=["webhooks"])


@router.post("/payments", status_code=status.HTTP_204_NO_CONTENT)
async def payment_event(event: PaymentEvent, db: DbSession):
    if event.get("type") != "payment.succeeded":
        return
    order = db.get(Order, int(event["data"]["order_reference"]))
    if order is not None and order.status == "new":
        order.status = "paid"
        db.commit()
