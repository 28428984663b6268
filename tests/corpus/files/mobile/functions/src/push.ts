import * as functions from "firebase-functions";
import fetch from "node-fetch";

// Legacy FCM HTTP API (to be migrated to v1)
const FCM_SERVER_KEY = "AAAAxwkw0_C:APA91bO0EUlsS-T5djfB5XyDbuiL8lNyzgVYOm-zBrMhdIJ4x58yQxi2HvWOt0MmfMFQMKBoNmyDfyPySXUA3o_3vFFv3crMiy6GRvLiDaiuUXZkGAcNli-QUGZXdojBIWCxushQ5ZrP";

export const notifyOrderShipped = functions.firestore.document("orders/{id}").onUpdate(async (change) => {
  const after = change.after.data();
  if (after.status !== "shipped") return;
  await fetch("https://fcm.googleapis.com/fcm/send", {
    method: "POST",
    headers: { Authorization: `key=${FCM_SERVER_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify({ to: after.pushToken, notification: { title: "Your order shipped" } }),
  });
});
