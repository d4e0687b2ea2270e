"""Acme Orders API: a small FastAPI service with JWT bearer authentication.

INTENTIONALLY INSECURE: see README.md. Never deploy this code.
"""

from typing import List

from fastapi import Depends, FastAPI, Form, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from auth import (
    authenticate_user,
    create_access_token,
    create_debug_token,
    create_refresh_token,
    create_remember_me_token,
    decode_refresh_token,
    decode_service_token,
    fake_users_db,
    get_current_active_user,
    require_admin,
)
from settings import APP_NAME

app = FastAPI(title=APP_NAME)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    refresh_token: str | None = None


class Order(BaseModel):
    id: int
    owner: str
    item: str
    quantity: int


ORDERS: List[Order] = [
    Order(id=1, owner="alice", item="teapot", quantity=1),
    Order(id=2, owner="bob", item="cups", quantity=6),
]


@app.post("/token", response_model=Token)
async def login(form_data: OAuth2PasswordRequestForm = Depends(), remember_me: bool = Form(False)):
    user = authenticate_user(form_data.username, form_data.password)
    if not user:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Incorrect username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if remember_me:
        access_token = create_remember_me_token(user["username"])
    else:
        access_token = create_access_token(user, form_data.password)
    return Token(access_token=access_token, refresh_token=create_refresh_token(user["username"]))


@app.post("/token/refresh", response_model=Token)
async def refresh(refresh_token: str = Form(...)):
    claims = decode_refresh_token(refresh_token)
    user = fake_users_db.get(claims["sub"])
    if user is None:
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="Unknown user")
    return Token(access_token=create_remember_me_token(user["username"]))


@app.get("/debug/token")
async def debug_token(username: str = "alice"):
    return {"access_token": create_debug_token(username), "token_type": "bearer"}


@app.get("/users/me")
async def read_users_me(current_user: dict = Depends(get_current_active_user)):
    return {key: value for key, value in current_user.items() if key != "hashed_password"}


@app.get("/orders", response_model=List[Order])
async def list_orders(current_user: dict = Depends(get_current_active_user)):
    return [order for order in ORDERS if order.owner == current_user["username"]]


@app.delete("/admin/orders/{order_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_order(order_id: int, admin: dict = Depends(require_admin)):
    ORDERS[:] = [order for order in ORDERS if order.id != order_id]


@app.post("/internal/orders/{order_id}/ship")
async def ship_order(order_id: int, x_service_token: str = Form(...)):
    service = decode_service_token(x_service_token)
    return {"order_id": order_id, "shipped_by": service.get("sub")}
