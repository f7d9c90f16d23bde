// After a passkey is added, reload the page so that it appears in the list (and can be named).
document.addEventListener("otp_webauthn.register_complete", () => {
  window.location.reload();
});
