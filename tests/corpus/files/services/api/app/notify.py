import requests
from twilio.rest import Client
from slack_sdk import WebClient

TWILIO_ACCOUNT_SID = "AC85293559281bae81dfa9dfd783c3473f"
TWILIO_AUTH_TOKEN = "dce0626a7d98268d5af8e245c1f41894"
TWILIO_API_KEY_SID = "SK8834f164e74379977c86a077a5e489b3"
TWILIO_API_SECRET = "jF7eCQlH10icOK0PnjTUXGfzO4wp7WDP"
twilio = Client(TWILIO_API_KEY_SID, TWILIO_API_SECRET, TWILIO_ACCOUNT_SID)

slack = WebClient(token="xoxb-055441454300-3850440006009-OWQBavLl0Cr3DQhYIa0MmOga")
SLACK_SIGNING_SECRET = "ef0db6fcec815bc906628701c783cc59"
ALERTS_WEBHOOK = "https://hooks.slack.com/services/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"
DISCORD_WEBHOOK = "https://discord.com/api/webhooks/7945792090347457439/PGaub-mQFVEj5biwL2iwcLelxOCpy_KeY0ykKvQXnxCzsscgq9jESGA-LQuJT2q-pLXa"
TELEGRAM_URL = "https://api.telegram.org/bot4514446791:AA1ZMYFGJbsKyG58l2NpVFjXZRZaSPAS-SQ/sendMessage"
TEAMS_WEBHOOK = "https://quietcorp.webhook.office.com/webhookb2/7676394c-8653-40c8-99a4-52f522a38dae@092100e5-eb18-45b3-ae32-16bd1492ba2d/IncomingWebhook/8965b0c607510f2afe67c81bdbc96925/56851f8c-1f72-4380-a3e1-475103e75987/V2x1mk9PcD68or1dfK8B6POHO7da_ngSK9QrCHoPk8HC8Qy"


def page_oncall(text: str) -> None:
    requests.post(ALERTS_WEBHOOK, json={"text": text}, timeout=5)
    requests.post(DISCORD_WEBHOOK, json={"content": text}, timeout=5)


def send_receipt(to: str, html: str) -> None:
    requests.post(
        "https://api.postmarkapp.com/email",
        headers={"X-Postmark-Server-Token": "be5a72fd-2fc0-4572-88d6-c6fdc4987bec", "Accept": "application/json"},
        json={"From": "receipts@harborlights.gg", "To": to, "HtmlBody": html},
        timeout=10,
    )
