# Forgot password and the new-password form.
pw-forgot-label = Email address or login
pw-forgot-button = Send me a link
pw-forgot-title = Forgot your password?
pw-forgot-text = Enter the email address of your account (or its login). We will email you a link to choose a new password; it works once, for one hour. This also helps when your temporary password has expired.
pw-back-to-login = Back to log in
pw-sent-title = Check your email
pw-sent-text = <p>If this address or login belongs to an account, we have sent a link to the account's email address. It works once, for one hour.</p><p class="muted">Nothing arrived? Look in the spam folder, or ask again in a few minutes.</p>
pw-not-sent-title = Could not send
pw-choose-title = Choose a new password
pw-choose-text = At least 12 characters; a few unrelated words work well. Every device where you are logged in will be logged out.
pw-new-password = New password
pw-save-button = Save the new password
pw-link-failed-title = This link does not work
pw-later-title = Please try again later
pw-later-text = We cannot look at this link right now. Nothing was changed, and the link still works: please open it again in a few minutes.
pw-changed-title = Password changed
pw-changed-text = <p class="ok">Your new password is saved, and every device that was logged in has been logged out.</p><p>Log in with your login or email address and the new password.</p>
pw-log-in = Log in
pw-not-saved = We could not save the new password right now; nothing was changed and the link still works. Please try again in a few minutes.
