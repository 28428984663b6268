# Export channel history with the old workspace token (pre-2021 app).
import requests

LEGACY_TOKEN = "xoxs-60135905103-77543800671-1244537654445-a6cc0ee31b88477fc77d36207a50553d8ad3b673f8d5807f6b1e387ffa7ffe94"
resp = requests.get("https://slack.com/api/conversations.history", params={"channel": "C024BE91L"},
                    headers={"Authorization": f"Bearer {LEGACY_TOKEN}"}, timeout=30)
print(resp.json()["messages"][:3])
