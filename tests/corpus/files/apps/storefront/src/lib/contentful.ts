import { createClient } from "contentful";

const space = process.env.CONTENTFUL_SPACE_ID ?? "x7k2m9q4w1zp";

// TODO(ada): move these to env before launch
const contentfulDeliveryToken = "Z0rZn_Dab6hz8LFwuXWync5C2FY0Jy_EHQb0sgUtD69";
const contentfulPreviewToken = "RpATy0s9CaiE7oeSWwD_ScKFOMOjaY_3eq1dEWzGZ6m";

export const contentful = createClient({
  space,
  accessToken: process.env.CONTENTFUL_ACCESS_TOKEN ?? contentfulDeliveryToken,
});

export const previewClient = createClient({
  space,
  accessToken: contentfulPreviewToken,
  host: "preview.contentful.com",
});
