# The payment pages: /pay/{order}, the start at a gateway and /orders/{order}/return.
# Arguments are escaped before they get here; markup in a message is ours.
pay-title = Pay for your order
pay-order = Order { $id }
pay-card-note = You will enter your card on the payment provider's page; we never see card numbers.
pay-none = No payment method is enabled; please contact the shop.
nothing-to-pay = Nothing to pay
order-is = This order is <strong>{ $status }</strong>.
order-status = { $status ->
    [pending_payment] waiting for payment
    [paid] paid
    [provisioned] paid
    [failed] failed
    [expired] expired
    [cancelled] cancelled
    [refunded] refunded
   *[other] { $status }
}
order-not-found = We could not find this order.
busy = Please try again in a moment.
too-many = Too many attempts; please wait a minute and try again.
method-unavailable = This payment method is not available.
provider-failed = The payment provider did not answer as expected. Please try again in a moment, or choose another way to pay.
held-title = Payment authorised
held-text = <p class="ok">Your card payment is authorised and waits for the shop's confirmation.</p><p>You will get an email as soon as it is confirmed; there is nothing more to pay.</p>
held-review = <p>Payment received; it is being reviewed by the shop, who will contact you.</p><p>There is nothing more to pay.</p>
declined-title = Payment declined
declined-text = <p>This payment was declined by the shop and returned through the payment provider; the order is not paid.</p><p>Please contact the shop if you have questions.</p>
confirming-title = Confirming your payment
confirming-text = <p>We are waiting for the payment provider to confirm your payment. This page refreshes by itself.</p><p class="muted">If you cancelled, you can <a href="{ $href }">try again</a>.</p>
received-title = Payment received
status-title = Order status
paid-thanks = Thank you! Your payment is confirmed.
paid-new-account = We are sending your login, a temporary password and a confirmation link to <strong>{ $email }</strong>. Confirm the address, log in and choose your own password, and you are in.
paid-extended = Your login for <strong>{ $service }</strong> is on its way to <strong>{ $email }</strong>, or, if that address already has an account, the access has been added to it: log in with the login and password you already have.
paid-only-thanks = Thank you! Your payment for <strong>{ $service }</strong> is confirmed.
paid-only-text = A confirmation is on its way to <strong>{ $email }</strong>.
go-to-cabinet = Go to your cabinet
