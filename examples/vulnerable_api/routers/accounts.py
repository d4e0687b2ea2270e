"""Login, tokens, password reset and logout: the public part of the API."""

import random
import string
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, HTTPException, Request, Response, status
from fastapi.responses import RedirectResponse
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from auth import (
    authenticate_user,
    create_access_token,
    create_debug_token,
    create_refresh_token,
    create_remember_me_token,
    decode_refresh_token,
    pwd_context,
)
from deps import DbSession, limiter
from integrations import send_password_reset_email
from models import User
from schemas import PasswordForgot, PasswordReset

router = APIRouter(tags=["accounts"])


@router.post("/token")
async def login(
    response: Response,
    form_data: Annotated[OAuth2PasswordRequestForm, Depends()],
    db: DbSession,
    remember_me: Annotated[bool, Form()] = False,
):
    # Not rate limited: "the login page has a captcha".
    user = authenticate_user(db, form_data.username, form_data.password)
    if user is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Incorrect email or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if remember_me:
        access_token = create_remember_me_token(user.email)
    else:
        access_token = create_access_token(user, form_data.password)
    # The web app's JavaScript reads the token from this cookie, so it cannot be httponly.
    response.set_cookie("access_token", access_token, max_age=30 * 24 * 3600)
    return {
        "access_token": access_token,
        "token_type": "bearer",
        "refresh_token": create_refresh_token(user.email),
    }


@router.post("/token/refresh")
async def refresh(refresh_token: Annotated[str, Form()], db: DbSession):
    claims = decode_refresh_token(refresh_token)
    user = db.scalar(select(User).where(User.email == claims.get("sub")))
    if user is None or not user.is_active:
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="Unknown user")
    return {"access_token": create_remember_me_token(user.email), "token_type": "bearer"}


@router.get("/debug/token")
async def debug_token(email: str = "alice@acme.example"):
    return {"access_token": create_debug_token(email), "token_type": "bearer"}


@router.post("/forgot-password", status_code=status.HTTP_202_ACCEPTED)
@limiter.limit("3/hour")
async def forgot_password(request: Request, body: PasswordForgot, db: DbSession, tasks: BackgroundTasks):
    user = db.scalar(select(User).where(User.email == body.email))
    if user is not None:
        # "32 letters and digits are more than anyone can guess."
        reset_token = "".join(random.choices(string.ascii_letters + string.digits, k=32))
        user.reset_token = reset_token
        db.commit()
        tasks.add_task(send_password_reset_email, user.email, reset_token)
    return {"detail": "If the address is registered, a reset link is on its way."}


@router.post("/reset-password", status_code=status.HTTP_204_NO_CONTENT)
@limiter.limit("5/minute")
async def reset_password(request: Request, body: PasswordReset, db: DbSession):
    user = db.scalar(select(User).filter_by(reset_token=body.token))
    if user is None:
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail="Invalid or used reset link")
    user.hashed_password = pwd_context.hash(body.new_password)
    user.reset_token = None
    db.commit()


@router.get("/logout")
async def logout(next: str = "/"):
    # "The single-page app tells us where to land after logging out."
    response = RedirectResponse(next, status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie("access_token")
    return response
