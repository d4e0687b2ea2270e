"""Calls to the services the API depends on: the warehouse ERP and the mail provider."""

import requests

import settings

erp = requests.Session()
erp.verify = False  # "the ERP still has the self-signed certificate from its install"


def erp_access_token() -> str:
    # "The ERP vendor only offers the password grant to service accounts."
    response = erp.post(
        settings.ERP_TOKEN_URL,
        data={"grant_type": "password", "username": settings.ERP_USERNAME, "password": settings.ERP_PASSWORD},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["access_token"]


def notify_warehouse(order_id: int, sku: str, quantity: int) -> None:
    # No timeout: "the ERP is slow at month end, and timeouts lost us shipments".
    response = requests.post(
        f"{settings.ERP_BASE_URL}/shipments",
        json={"reference": f"ACME-{order_id}", "sku": sku, "quantity": quantity},
        headers={"Authorization": f"Bearer {erp_access_token()}"},
    )
    response.raise_for_status()


def send_password_reset_email(email: str, token: str) -> None:
    response = requests.post(
        settings.MAIL_API_URL,
        auth=("api", settings.MAIL_API_KEY),
        json={
            "to": email,
            "subject": "Reset your Acme password",
            "text": f"Open https://orders.acme.example/reset-password?token={token} to choose a new password.",
        },
        timeout=10,
    )
    response.raise_for_status()
