#!/usr/bin/env python3
"""Mirror issues from GitHub to Linear. Token values below belong to the harbor-bot account."""
import requests

GH_APP_USER_TOKEN = "ghu_oD5IECvthPF4lgCPpdOuEqFFdzScqY3dPTPs"
REFRESH = "ghr_xYMietyu5B7layw0G6lrQg4KIxvxJjoB1QM26kQ6sWC5be5uGRv8wy8s0O96U36EjlcPabz9Ihij"
INSTALLATION_TOKEN = "ghs_526248_eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJnaXRodWIiLCJhaWQiOjUyNjI0OCwiaWlkIjo4MzU0MzA2MiwiZXhwIjoxNzc3MTA2NTcwLCJyaWQiOiIxN2FiODk1OGVhZDEifQ.qvrcbcdPM5l5G7cBt_Yg7KOOlNHbFBe2J_CznmEjmsIrl1zTeG_9PTyyNQcKccO0e_XHKe2E0-zcysfdRYNXsM8I6zMc4nKeN0UX9YWNaP43u_n6JYDDVa_WUqZkU76y5AvqjLMV0eIdPF5TUVe7RJxj62fjkjssvlXc7T8xChIKlGx6tZAsaAaJay5u1oqefz15MRxYpEWWgwMecGKGv6-DMWXCG22jKmNY4iVyFfW35p7-zcPaNg5_NBzZHlDJ8wxVmgbl_yahsY5Y751BsCZR2rFnY18JLmPFRdQMwLzy0L11zi7op8A5VqB4bL6gIK5XeaN21agiiGSHAyt0zi"
PERSONAL = "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"

session = requests.Session()
session.headers["Authorization"] = f"Bearer {GH_APP_USER_TOKEN}"
session.headers["X-GitHub-Api-Version"] = "2022-11-28"

def issues(repo: str):
    url = f"https://api.github.com/repos/{repo}/issues?state=open&per_page=100"
    while url:
        resp = session.get(url, timeout=30)
        resp.raise_for_status()
        yield from resp.json()
        url = resp.links.get("next", {}).get("url")
