/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  images: { remotePatterns: [{ protocol: "https", hostname: "cdn.harborlights.gg" }] },
  env: {
    NEXT_PUBLIC_LAUNCHDARKLY_CLIENT_SIDE_ID: "2043b136d4392d6ef6928033",
    NEXT_PUBLIC_SEGMENT_WRITE_KEY: "4Upcc6H9YHFs5CNpQV33HGVvQpsWKR3W",
    NEXT_PUBLIC_WALLETCONNECT_PROJECT_ID: "eb85b0e4ad09cc22150cd6ca7e0856f2",
    NEXT_PUBLIC_BUILD_SHA: "f2a1d5a3714be5719a6a270591cfafd2c6204597",
  },
  experimental: { serverActions: { bodySizeLimit: "2mb" } },
};

export default nextConfig;
