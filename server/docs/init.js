// Starts Swagger UI on the spec this server serves. Paths are relative to /docs, so the page also
// works behind a proxy that adds a path prefix. Nothing is loaded from anywhere else: the
// validator badge would call validator.swagger.io, so it is off.
window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  validatorUrl: null,
  displayRequestDuration: true,
  persistAuthorization: false,
});
