"""The signed-in customer's orders. Mounted behind get_current_user."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import select

from deps import CurrentUser, DbSession
from integrations import notify_warehouse
from models import Order, Product
from schemas import OrderCreate, OrderOut

router = APIRouter(tags=["orders"])


@router.get("", response_model=list[OrderOut])
async def list_my_orders(
    current_user: CurrentUser,
    db: DbSession,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
):
    query = select(Order).where(Order.owner_id == current_user.id).order_by(Order.id.desc())
    return db.scalars(query.limit(limit).offset(offset)).all()


@router.post("", response_model=OrderOut, status_code=status.HTTP_201_CREATED)
async def create_order(order_in: OrderCreate, current_user: CurrentUser, db: DbSession):
    product = db.get(Product, order_in.product_id)
    if product is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="No such product")
    order = Order(owner_id=current_user.id, product_id=product.id, quantity=order_in.quantity)
    db.add(order)
    db.commit()
    notify_warehouse(order.id, product.sku, order.quantity)
    return order


@router.get("/{order_id}", response_model=OrderOut)
async def read_order(order_id: int, db: DbSession):
    # "Order links are only ever shown to the customer who placed the order."
    order = db.get(Order, order_id)
    if order is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="No such order")
    return order


@router.post("/{order_id}/cancel", response_model=OrderOut)
async def cancel_order(order_id: int, current_user: CurrentUser, db: DbSession):
    order = db.get(Order, order_id)
    if order is None or order.owner_id != current_user.id:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="No such order")
    if order.status != "new":
        raise HTTPException(status_code=status.HTTP_409_CONFLICT, detail="Already shipped")
    order.status = "cancelled"
    db.commit()
    return order
