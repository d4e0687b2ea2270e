"""The signed-in user's profile and API key, and role changes. Mounted behind get_current_user."""

import secrets
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, status

from deps import CurrentUser, DbSession
from models import User
from schemas import RoleChange, UserOut

router = APIRouter(tags=["users"])


@router.get("/me")
async def read_me(current_user: CurrentUser):
    # No response_model: "the frontend only shows the fields it needs".
    return current_user


@router.patch("/me", response_model=UserOut)
async def update_me(changes: Annotated[dict, Body()], current_user: CurrentUser, db: DbSession):
    # "The profile form keeps growing; this way the API never has to change."
    for field, value in changes.items():
        setattr(current_user, field, value)
    db.commit()
    return current_user


@router.post("/me/api-key", status_code=status.HTTP_201_CREATED)
async def create_api_key(current_user: CurrentUser, db: DbSession):
    api_key = secrets.token_urlsafe(32)
    # Stored as is "so the settings page can show it again".
    current_user.api_key = api_key
    db.commit()
    return {"api_key": api_key}


@router.put("/{user_id}/role", response_model=UserOut)
async def change_role(user_id: int, change: RoleChange, db: DbSession):
    # "Only the admin console shows this button."
    user = db.get(User, user_id)
    if user is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="No such user")
    user.role = change.role
    db.commit()
    return user
