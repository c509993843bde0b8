// Starts ReDoc on /redoc (app/routers/docs.py). ReDoc writes its styles into style
// elements as it renders; the page's Content-Security-Policy allows them only with the
// nonce this script was given, which ReDoc then puts on each of them.
const root = document.getElementById("redoc");
window.Redoc.init(root.dataset.specUrl, { nonce: document.currentScript.nonce }, root);
