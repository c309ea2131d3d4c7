# The order page /buy/{slug} and the home page.
sf-busy = Please try again in a moment.
sf-not-on-sale = This item is not on sale.
sf-optional = { $label } (optional)
sf-name = Name
sf-email = Email
sf-phone = Phone
sf-continue = Continue to payment
sf-note = Your login and a temporary password are emailed to you once the payment is confirmed. Already a customer? Use the same email address: the access is added to your account.
sf-log-in = Log in to your cabinet
sf-title = Order
sf-enter-name = Please enter your name.
sf-enter-phone = Please enter your phone number.
sf-unreadable = The form could not be read; please try again.
sf-buy = Buy
sf-nothing = Nothing is on sale right now.
sf-already = Already a customer? <a href="{ $href }">Log in to your cabinet</a>.
sf-welcome = Welcome
# The Tilda continue page, /forms/tilda/continue.
sf-preparing-title = Preparing your order
sf-preparing = Your order is on its way to us; this page moves on by itself in a moment.
sf-order-not-found-title = Order not found
sf-order-not-found = <p>We could not find an order waiting for payment under this link. If you have just sent the form, please try again in a minute; if you have paid already, look for our email or <a href="/cabinet">log in to your cabinet</a>.</p><p><a href="/">See what is on sale</a></p>
