// Starts Swagger UI on /docs (app/routers/docs.py) from a file, not an inline script:
// the page's Content-Security-Policy runs scripts of this origin only.
const root = document.getElementById("swagger-ui");
const { SwaggerUIBundle } = window;
window.ui = SwaggerUIBundle({
  url: root.dataset.openapiUrl, // under the app's base path
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null, // no calls to the online validator
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
