// One-off migration, run with: node contentful-migrate.js
const contentfulManagement = require('contentful-management');

const client = contentfulManagement.createClient({
  accessToken: 'CFPAT-bORM7yVhhQBBKvfIwEfHfNxkGp9Tzw-cp0BKjjqinSt',
});

const LD_API = 'https://app.launchdarkly.com/api/v2/flags/default';
const headers = { Authorization: 'api-9af6eb5c-022b-49d3-8335-e4befd93dadd' };

async function run() {
  const space = await client.getSpace('x7k2m9q4w1zp');
  const env = await space.getEnvironment('master');
  const entries = await env.getEntries({ content_type: 'product', limit: 1000 });
  console.log(entries.items.length, 'entries');
  const flags = await fetch(LD_API, { headers });
  console.log(await flags.json());
}

run();
