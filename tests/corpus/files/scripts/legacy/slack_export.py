# Export channel history with the old workspace token (pre-2021 app).
import requests

LEGACY_TOKEN = "xoxs-17051232601-35905103775-4380067112445-6ecb998aa6cc0ee31b88477fc77d36207a50553d8ad3b673f8d5807f6b1e387f"
resp = requests.get("https://slack.com/api/conversations.history", params={"channel": "C024BE91L"},
                    headers={"Authorization": f"Bearer {LEGACY_TOKEN}"}, timeout=30)
print(resp.json()["messages"][:3])
