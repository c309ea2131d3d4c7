// Prints true/false: does Square's own WebhooksHelper accept this signature?
// usage: node square_verify.js SIGNATURE_KEY NOTIFICATION_URL SIGNATURE BODY_FILE
const fs = require("fs");
const { WebhooksHelper } = require("square");
const [signatureKey, notificationUrl, signatureHeader, file] = process.argv.slice(2);
const requestBody = fs.readFileSync(file, "utf8");
WebhooksHelper.verifySignature({ requestBody, signatureHeader, signatureKey, notificationUrl })
  .then((ok) => process.stdout.write(String(ok)))
  .catch((e) => { process.stderr.write(String(e)); process.exit(2); });
