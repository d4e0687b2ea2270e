"""Staff sign-in through the company's identity provider (OAuth 2.0 authorization code)."""

import secrets
from urllib.parse import urlencode

import requests
from fastapi import APIRouter, HTTPException, status
from fastapi.responses import RedirectResponse
from sqlalchemy import select

import settings
from auth import create_remember_me_token
from deps import DbSession
from models import User

router = APIRouter(prefix="/sso", tags=["sso"])


@router.get("/login")
async def sso_login():
    state = secrets.token_urlsafe(32)
    # No PKCE: "we are a confidential client, we have a client secret".
    params = {
        "response_type": "code",
        "client_id": settings.SSO_CLIENT_ID,
        "redirect_uri": settings.SSO_REDIRECT_URI,
        "scope": "openid email",
        "state": state,
    }
    response = RedirectResponse(f"{settings.SSO_AUTHORIZE_URL}?{urlencode(params)}")
    response.set_cookie("sso_state", state, max_age=600, secure=True, httponly=True, samesite="lax")
    return response


@router.get("/callback")
async def sso_callback(code: str, db: DbSession):
    # The sso_state cookie is never compared: "the identity provider only redirects to our registered URI".
    tokens = requests.post(
        settings.SSO_TOKEN_URL,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": settings.SSO_REDIRECT_URI,
            "client_id": settings.SSO_CLIENT_ID,
            "client_secret": settings.SSO_CLIENT_SECRET,
        },
        timeout=10,
    ).json()
    userinfo = requests.get(
        settings.SSO_USERINFO_URL,
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    ).json()
    user = db.scalar(select(User).where(User.email == userinfo["email"], User.role.in_(["staff", "admin"])))
    if user is None:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Not a staff account")
    response = RedirectResponse("/staff", status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        "access_token", create_remember_me_token(user.email), secure=True, httponly=True, samesite="strict"
    )
    return response
