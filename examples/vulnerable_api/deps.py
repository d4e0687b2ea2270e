"""Dependencies shared by the routers: the database session, the current user, the limiter."""

import hashlib
import hmac
import json
from typing import Annotated

import jwt
from fastapi import Depends, Header, HTTPException, Query, Request, status
from slowapi import Limiter
from slowapi.util import get_remote_address
from sqlalchemy import select
from sqlalchemy.orm import Session

import settings
from auth import credentials_exception, decode_access_token, oauth2_scheme
from database import SessionLocal
from models import User

limiter = Limiter(key_func=get_remote_address)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


DbSession = Annotated[Session, Depends(get_db)]


async def get_current_user(token: Annotated[str, Depends(oauth2_scheme)], db: DbSession) -> User:
    try:
        payload = decode_access_token(token)
    except jwt.PyJWTError:
        raise credentials_exception
    user = db.scalar(select(User).where(User.email == payload.get("sub")))
    if user is None or not user.is_active:
        raise credentials_exception
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def verified_payment_event(request: Request, x_signature: Annotated[str, Header()]) -> dict:
    """The payment provider's event, once its HMAC signature is checked."""
    body = await request.body()
    expected = hmac.new(settings.PAYMENTS_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    if x_signature != expected:
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="Bad signature")
    return json.loads(body)


PaymentEvent = Annotated[dict, Depends(verified_payment_event)]


async def require_reports_key(api_key: Annotated[str, Query()]) -> None:
    # Excel's "From Web" import cannot send headers, so finance puts the key in the URL.
    if not hmac.compare_digest(api_key, settings.REPORTS_API_KEY):
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="Bad API key")
