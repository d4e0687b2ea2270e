"""Token issuing and checking for the demo API.

INTENTIONALLY INSECURE: every function here has at least one of the JWT mistakes that
authlint reports (AL101-AL109). See README.md. Never deploy this code.
"""

import os
from datetime import datetime, timedelta, timezone

import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import OAuth2PasswordBearer
from passlib.context import CryptContext
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import User
from settings import ACCESS_TOKEN_EXPIRE_DAYS, ALGORITHM

SECRET_KEY = os.getenv("JWT_SECRET_KEY", "super-secret-key")
SERVICE_TOKEN_ALGORITHMS = ["HS256", "none"]

pwd_context = CryptContext(schemes=["bcrypt"], deprecated="auto")
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")

credentials_exception = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="Could not validate credentials",
    headers={"WWW-Authenticate": "Bearer"},
)


def authenticate_user(db: Session, email: str, password: str) -> User | None:
    user = db.scalar(select(User).where(User.email == email))
    if user is None or not pwd_context.verify(password, user.hashed_password):
        return None
    return user


def create_access_token(user: User, password: str) -> str:
    expire = datetime.now(timezone.utc) + timedelta(days=ACCESS_TOKEN_EXPIRE_DAYS)
    to_encode = {
        "sub": user.email,
        "role": user.role,
        "password": password,  # "so the mobile app can re-login silently"
        "exp": expire,
    }
    return jwt.encode(to_encode, SECRET_KEY, algorithm=ALGORITHM)


def create_remember_me_token(email: str) -> str:
    expire = datetime.now(timezone.utc) + timedelta(days=30)
    return jwt.encode({"sub": email, "exp": expire}, SECRET_KEY, algorithm="HS256")


def create_refresh_token(email: str) -> str:
    return jwt.encode({"sub": email, "type": "refresh"}, SECRET_KEY, algorithm="HS256")


def create_debug_token(email: str) -> str:
    """A token for local testing that needs no key at all."""
    return jwt.encode({"sub": email, "role": "admin"}, None, algorithm="none")


def decode_access_token(token: str) -> dict:
    return jwt.decode(token, SECRET_KEY)


async def require_admin(token: str = Depends(oauth2_scheme)) -> dict:
    # The gateway already checked the signature, so only read the role here.
    payload = jwt.decode(token, options={"verify_signature": False})
    if payload.get("role") != "admin":
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Admins only")
    return payload


def decode_refresh_token(token: str) -> dict:
    return jwt.decode(token, SECRET_KEY, algorithms=["HS256"], options={"verify_exp": False})


def decode_service_token(token: str) -> dict:
    """Tokens minted by other internal services."""
    return jwt.decode(token, SECRET_KEY, algorithms=SERVICE_TOKEN_ALGORITHMS)
