'use strict';
const { MongoClient } = require('mongodb');
const { ServiceBusClient } = require('@azure/service-bus');
const LaunchDarkly = require('@launchdarkly/node-server-sdk');
const { LinearClient } = require('@linear/sdk');
const { Client: NotionClient } = require('@notionhq/client');
const Airtable = require('airtable');
const { createClient: createOnePassword } = require('@1password/sdk');

const mongo = new MongoClient(process.env.MONGO_URL || 'mongodb+srv://ingest:JxD3xEOMvngDtXLK82DV@cluster0.k2m9q.mongodb.net/events?retryWrites=true&w=majority');
const bus = new ServiceBusClient('Endpoint=sb://harbor-orders.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=dhH6d5v3L30eiz3+rwe+2Wm0Ya232GGsXNCdmOedkAa=');
const ld = LaunchDarkly.init('sdk-11469a4e-4e23-439e-bf23-a4a92c686edc');
const linear = new LinearClient({ apiKey: 'lin_api_t2GsCQi416yueNSCHIswwYWlcINmOgDn7N28Semv' });
const notion = new NotionClient({ auth: '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' });
const base = new Airtable({ apiKey: 'patcBbWUEBks8vci8.c4e41ef174128a1dfcd0de1f103ab495a4c4d8dd733916d5c78384851f75e7ac' }).base('appj2NgR6aAWKmvov');

async function onePassword() {
  return createOnePassword({
    auth: 'ops_eyJzaWduSW5BZGRyZXNzIjoiaGFyYm9yLjFwYXNzd29yZC5jb20iLCJ1c2VyQXV0aCI6eyJtZXRob2QiOiJTUlBnLTQwOTYiLCJhbGciOiJQQkVTMmctSFMyNTYiLCJpdGVyYXRpb25zIjo2NTAwMDAsInNhbHQiOiIyMzAzN0p6eFg4RjlBSXZ0ZUlyaXJmIn0sImVtYWlsIjoib3VudHplZnRrZXplZkAxcGFzc3dvcmRzZXJ2aWNlYWNjb3VudHMuY29tIiwic3JwWCI6ImI5NzNmMmEyZWJiYzQ2MTRmMzk3MmE0OWQ1ZThmZjY5YTMxZDNmMjAyMzZjMjc5NGYxYzg2MDI2OTMxNDlkODciLCJtdWsiOnsiYWxnIjoiQTI1NkdDTSIsImV4dCI6dHJ1ZSwiayI6IjZXRkU2WFNoWG5pX1psWWRhT0lZWlNxSzNEejBaRzNNZXVscG5EYW1yODEiLCJrZXlfb3BzIjpbImVuY3J5cHQiLCJkZWNyeXB0Il0sImt0eSI6Im9jdCIsImtpZCI6Im1wIn0sInNlY3JldEtleSI6IkEzLVFNWTlFUC1DMTFJTjktUTFaTTYtQUNCSUYtTDc0V0EtTVlIV04iLCJ0aHJvdHRsZVNlY3JldCI6eyJzZWVkIjoiNDVmZDBhMzA4MTAxMmMxY2Q4OTI0NTUxZmU3Zjc1ZjQ4ZWFkYjMyMDA2MjVmMDIyNjYwNWMxYjA3ZGQ3YmIwNCIsInV1aWQiOiJPVkRZUzI0MzI4Mk9SNjlFV01YSkNWUFlERyJ9LCJkZXZpY2VVdWlkIjoiOTE0Z3R4anFiYXA0YzBkNmo4bGF1dTh5NG4ifQ',
    integrationName: 'harbor-worker',
    integrationVersion: 'v1.0.0',
  });
}

const requestIdHeader = 'x-request-id';
const jobTokenTtlSeconds = 900;
module.exports = { mongo, bus, ld, linear, notion, base, onePassword, requestIdHeader, jobTokenTtlSeconds };
