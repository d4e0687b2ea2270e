"""Acme Orders API: a small FastAPI service with JWT bearer authentication.

INTENTIONALLY INSECURE: see README.md. Never deploy this code.
Run with `uvicorn main:app` from this folder.
"""

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from slowapi import _rate_limit_exceeded_handler
from slowapi.errors import RateLimitExceeded
from sqlalchemy.exc import IntegrityError

import settings
from auth import require_admin
from deps import get_current_user, limiter
from routers import accounts, admin, internal, orders, products, reports, sso, users, webhooks

app = FastAPI(title=settings.APP_NAME, debug=True)  # "staging needs the tracebacks"
app.state.limiter = limiter
app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)
app.add_middleware(
    CORSMiddleware,
    allow_origins=settings.CORS_ORIGINS,
    allow_methods=["*"],
    allow_headers=["Authorization", "Content-Type"],
)


@app.exception_handler(IntegrityError)
async def integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
    # "Support needs to see which constraint failed without digging through the logs."
    return JSONResponse(status_code=409, content={"detail": "Conflict", "cause": str(exc.orig)})


@app.get("/health")
async def health():
    return {"status": "ok"}


# Public: login, tokens, password reset, staff sign-in.
app.include_router(accounts.router)
app.include_router(sso.router)

# Signed-in customers.
app.include_router(users.router, prefix="/users", dependencies=[Depends(get_current_user)])
app.include_router(orders.router, prefix="/orders", dependencies=[Depends(get_current_user)])
app.include_router(products.router, prefix="/products", dependencies=[Depends(get_current_user)])

# Staff only.
app.include_router(admin.router, prefix="/admin", dependencies=[Depends(require_admin)])

# Machines: the payment provider (signed webhooks), finance's spreadsheets (API key), the warehouse.
app.include_router(webhooks.router, prefix="/webhooks")
app.include_router(reports.router, prefix="/reports")
app.include_router(internal.router, prefix="/internal")
