"""Configuration of the demo API.

INTENTIONALLY INSECURE: see README.md. Never deploy this code.
"""

import os

APP_NAME = "Acme Orders API"
DATABASE_URL = os.getenv("DATABASE_URL", "sqlite:///./orders.db")

CORS_ORIGINS = ["*"]

# "Temporary" defaults that shipped to production.
ALGORITHM = "HS256"
ACCESS_TOKEN_EXPIRE_DAYS = 30  # "users complained about logging in every hour"
