// Prints a Stripe-Signature header made by Stripe's own Node library.
// usage: node stripe_sign.js SECRET TIMESTAMP PAYLOAD_FILE
const fs = require("fs");
const Stripe = require("stripe");
const [secret, timestamp, file] = process.argv.slice(2);
const stripe = new Stripe("sk_test_unused");
const payload = fs.readFileSync(file, "utf8");
process.stdout.write(stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: Number(timestamp) }));
