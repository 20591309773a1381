/* global document */
document.getElementById('status').textContent = `Rendered at ${new Date().toLocaleTimeString()}.`;
