"""Back-office operations. Mounted behind require_admin."""

from pathlib import Path
from typing import Annotated

import requests
from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import select

import settings
from deps import DbSession
from models import Order, Product, User
from schemas import ImageImport, ProductOut, UserOut

router = APIRouter(tags=["admin"])


@router.get("/users", response_model=list[UserOut])
async def list_users(
    db: DbSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
):
    return db.scalars(select(User).order_by(User.id).limit(limit).offset(offset)).all()


@router.delete("/orders/{order_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_order(order_id: int, db: DbSession):
    order = db.get(Order, order_id)
    if order is not None:
        db.delete(order)
        db.commit()


@router.post("/products/{product_id}/image", response_model=ProductOut)
async def import_product_image(product_id: int, image: ImageImport, db: DbSession):
    product = db.get(Product, product_id)
    if product is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="No such product")
    # "Only admins can call this, and they paste links from the suppliers' sites."
    upstream = requests.get(str(image.url), timeout=10)
    upstream.raise_for_status()
    Path(settings.MEDIA_DIR, f"{product.sku}.jpg").write_bytes(upstream.content)
    product.image_url = f"/media/{product.sku}.jpg"
    db.commit()
    return product
