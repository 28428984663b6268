// Creates a Postmark server per environment.
const postmark = require('postmark');
const accountClient = new postmark.AccountClient('d31cec9f-107d-4c7e-bb5e-9d5ea2e5c295');

async function provision(env) {
  return accountClient.createServer({ Name: `harbor-${env}`, Color: 'blue', TrackOpens: true });
}
module.exports = { provision };
