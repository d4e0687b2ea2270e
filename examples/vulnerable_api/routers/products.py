"""The product catalog. Mounted behind get_current_user."""

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from deps import DbSession
from models import Product
from schemas import ProductOut

router = APIRouter(tags=["products"])


@router.get("", response_model=list[ProductOut])
async def list_products(db: DbSession):
    # "The catalog only has a few hundred products."
    return db.scalars(select(Product).order_by(Product.name)).all()


@router.get("/{product_id}", response_model=ProductOut)
async def read_product(product_id: int, db: DbSession):
    product = db.get(Product, product_id)
    if product is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="No such product")
    return product
