// Creates a Postmark server per environment.
const postmark = require('postmark');
const accountClient = new postmark.AccountClient('107d7c7e-fb5e-4d5e-82e5-c295c1c6d292');

async function provision(env) {
  return accountClient.createServer({ Name: `harbor-${env}`, Color: 'blue', TrackOpens: true });
}
module.exports = { provision };
