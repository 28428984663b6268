import { cookies } from "next/headers";

const TOKEN_COOKIE = "__Host-session";
export const API_KEY_HEADER = "x-api-key";

export async function getToken(): Promise<string | undefined> {
  return (await cookies()).get(TOKEN_COOKIE)?.value;
}

export function authHeaders(token: string) {
  return { Authorization: `Bearer ${token}`, "x-api-key": process.env.INTERNAL_API_KEY ?? "" };
}

export const passwordSchema = { minLength: 12, requireDigit: true };
const secretKey = process.env.SESSION_SECRET!;
const accessToken = await exchangeCodeForToken(code, verifier);
const refreshToken = session?.refreshToken ?? null;
const apiKey = config.get<string>("services.orders.apiKey");
export { secretKey, accessToken, refreshToken, apiKey };
