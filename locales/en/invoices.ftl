# The pay-by-link page, /invoice/{id}.
iv-not-found = We could not find this invoice.
iv-received-title = Payment received
iv-paid-on = { $item } was paid on { $date }.
iv-paid-title = This invoice is paid
iv-paid-text = <p class="ok">Thank you: { $item } was paid on { $date }.</p><p>The confirmation went to <strong>{ $email }</strong>.</p>
iv-expired-title = This payment link has expired
iv-expired = This payment link has expired; ask the seller for a new one.
iv-refunded-title = This invoice was refunded
iv-refunded = This invoice was paid and the payment has been refunded. Nothing more to pay.
iv-cancelled-title = This invoice was cancelled
iv-cancelled = This invoice was cancelled; ask the seller for a new one if you still want to pay.
iv-status-title = Invoice status
iv-no-methods = No payment method is enabled; please contact the seller.
iv-full-terms = Read the full terms
iv-asks = { $merchant } asks <strong>{ $customer }</strong> to pay for:
iv-payable-until = Payable until { $date } · Invoice { $id }
iv-terms = Terms
iv-accept = I accept the terms
iv-title = Pay your invoice
iv-accept-first = Please accept the terms to continue.
iv-choose-method = Please choose one of the payment methods below.
iv-continue-title = Continue to payment
iv-continue-text = Thank you. Taking you to the payment page…
