"use client";
import { useEffect } from "react";
import { initializePaddle } from "@paddle/paddle-js";

export function PaddleCheckout({ priceId }: { priceId: string }) {
  useEffect(() => {
    initializePaddle({ environment: "sandbox", token: "test_0f7ea409000d75d94a3ec6dd7d9" }).then((paddle) => {
      paddle?.Checkout.open({ items: [{ priceId, quantity: 1 }] });
    });
  }, [priceId]);
  return null;
}
