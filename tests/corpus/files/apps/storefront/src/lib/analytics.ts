import posthog from "posthog-js";
import { AnalyticsBrowser } from "@segment/analytics-next";

export function initAnalytics() {
  posthog.init(process.env.NEXT_PUBLIC_POSTHOG_KEY!, { api_host: "https://eu.i.posthog.com", person_profiles: "identified_only" });
}

// Server-side export job (reads insights through the API)
export const POSTHOG_PERSONAL_API_KEY = "phx_ono20grx80E3oDQkO1sK953YSNuUvOYK1bCs4dvgHUBJypv";

export const segment = AnalyticsBrowser.load({ writeKey: process.env.NEXT_PUBLIC_SEGMENT_WRITE_KEY ?? "" });
