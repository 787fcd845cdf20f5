const express = require("express");

const app = express();
app.get("/notes", (_request, response) => response.json([{ id: 1, text: "hello" }]));
app.listen(process.env.PORT ?? 8080);
