import { ClerkProvider } from "@clerk/nextjs";
import Script from "next/script";
import "./globals.css";

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <ClerkProvider publishableKey={process.env.NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY}>
      <html lang="en">
        <head>
          <Script id="nr-browser" strategy="afterInteractive">
            {`;window.NREUM||(NREUM={});NREUM.init={privacy:{cookies_enabled:true}};
            NREUM.loader_config={accountID:"4412907",trustKey:"4412907",agentID:"1103352718",licenseKey:"NRJS-96e9470849bb6aa109a",applicationID:"1103352718"};`}
          </Script>
          <link rel="preconnect" href="https://api.mapbox.com" />
        </head>
        <body>{children}</body>
      </html>
    </ClerkProvider>
  );
}
