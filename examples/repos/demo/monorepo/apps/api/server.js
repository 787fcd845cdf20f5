const express = require("express");
const app = express();
app.get("/", (_request, response) => response.json({ ok: true }));
app.listen(process.env.PORT || 3000);
