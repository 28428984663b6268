import Stripe from "stripe";
import { NextResponse } from "next/server";
import { Paddle, Environment } from "@paddle/paddle-node-sdk";

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY ?? "sk_live_rJkPUjozjUNZu68amjgBjuh3", {
  apiVersion: "2024-06-20",
});

const paddle = new Paddle("pdl_sdbx_apikey_010qzc6vlv6h6u52l9mm1mncot_IqNI4sQCh2MyosA6aGS8d7_RuD", { environment: Environment.sandbox });

export async function POST(req: Request) {
  const { priceId, customerEmail } = await req.json();
  const idempotencyKey = req.headers.get("idempotency-key") ?? crypto.randomUUID();
  const session = await stripe.checkout.sessions.create(
    {
      mode: "subscription",
      line_items: [{ price: priceId, quantity: 1 }],
      customer_email: customerEmail,
      success_url: `${process.env.NEXT_PUBLIC_SITE_URL}/thanks?session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${process.env.NEXT_PUBLIC_SITE_URL}/pricing`,
    },
    { idempotencyKey },
  );
  return NextResponse.json({ url: session.url });
}
