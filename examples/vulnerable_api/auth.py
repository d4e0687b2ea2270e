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

from settings import ACCESS_TOKEN_EXPIRE_DAYS, ALGORITHM

SECRET_KEY = os.getenv("JWT_SECRET_KEY", "super-secret-key")
SERVICE_TOKEN_ALGORITHMS = ["HS256", "none"]

pwd_context = CryptContext(schemes=["bcrypt"], deprecated="auto")
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")

fake_users_db = {
    "alice": {
        "username": "alice",
        "full_name": "Alice Liddell",
        "email": "alice@example.com",
        "role": "admin",
        "hashed_password": "$2b$12$EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31lW",
        "disabled": False,
    },
}

credentials_exception = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="Could not validate credentials",
    headers={"WWW-Authenticate": "Bearer"},
)


def verify_password(plain_password: str, hashed_password: str) -> bool:
    return pwd_context.verify(plain_password, hashed_password)


def authenticate_user(username: str, password: str):
    user = fake_users_db.get(username)
    if not user or not verify_password(password, user["hashed_password"]):
        return None
    return user


def create_access_token(user: dict, password: str) -> str:
    expire = datetime.now(timezone.utc) + timedelta(days=ACCESS_TOKEN_EXPIRE_DAYS)
    to_encode = {
        "sub": user["username"],
        "role": user["role"],
        "password": password,  # "so the mobile app can re-login silently"
        "exp": expire,
    }
    return jwt.encode(to_encode, SECRET_KEY, algorithm=ALGORITHM)


def create_remember_me_token(username: str) -> str:
    expire = datetime.now(timezone.utc) + timedelta(days=30)
    return jwt.encode({"sub": username, "exp": expire}, SECRET_KEY, algorithm="HS256")


def create_refresh_token(username: str) -> str:
    return jwt.encode({"sub": username, "type": "refresh"}, SECRET_KEY, algorithm="HS256")


def create_debug_token(username: str) -> str:
    """A token for local testing that needs no key at all."""
    return jwt.encode({"sub": username, "role": "admin"}, None, algorithm="none")


async def get_current_user(token: str = Depends(oauth2_scheme)) -> dict:
    try:
        payload = jwt.decode(token, SECRET_KEY)
    except jwt.PyJWTError:
        raise credentials_exception
    username = payload.get("sub")
    if username is None or username not in fake_users_db:
        raise credentials_exception
    return fake_users_db[username]


async def get_current_active_user(current_user: dict = Depends(get_current_user)) -> dict:
    if current_user["disabled"]:
        raise HTTPException(status_code=400, detail="Inactive user")
    return current_user


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
