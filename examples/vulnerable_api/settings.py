"""Configuration of the Acme Orders API.

INTENTIONALLY INSECURE: see README.md. Never deploy this code.
"""

import os

APP_NAME = "Acme Orders API"
DATABASE_URL = os.getenv("DATABASE_URL", "sqlite:///./orders.db")
MEDIA_DIR = os.getenv("MEDIA_DIR", "./media")

CORS_ORIGINS = ["*"]  # "the mobile app and three partner dashboards call us"

# "Temporary" defaults that shipped to production.
ALGORITHM = "HS256"
ACCESS_TOKEN_EXPIRE_DAYS = 30  # "users complained about logging in every hour"

# Staff sign in through the company's identity provider.
SSO_CLIENT_ID = os.getenv("SSO_CLIENT_ID", "acme-orders")
SSO_CLIENT_SECRET = os.environ["SSO_CLIENT_SECRET"]
SSO_AUTHORIZE_URL = "https://sso.acme.example/oauth2/authorize"
SSO_TOKEN_URL = "http://sso.acme.internal/oauth2/token"  # "the token call never leaves the VPC"
SSO_USERINFO_URL = "https://sso.acme.example/oauth2/userinfo"
SSO_REDIRECT_URI = "https://orders.acme.example/sso/callback"

# The warehouse's ERP, which ships the orders.
ERP_BASE_URL = "https://erp.acme.example/api/v2"
ERP_TOKEN_URL = "https://erp.acme.example/oauth/token"
ERP_USERNAME = os.getenv("ERP_USERNAME", "orders-service")
ERP_PASSWORD = os.getenv("ERP_PASSWORD", "Wareh0use!2019")  # "so the service starts on a fresh laptop"

MAIL_API_URL = "https://api.mailer.example/v3/messages"
MAIL_API_KEY = os.environ["MAIL_API_KEY"]
PAYMENTS_WEBHOOK_SECRET = os.environ["PAYMENTS_WEBHOOK_SECRET"]
REPORTS_API_KEY = os.environ["REPORTS_API_KEY"]
