// The quiz page: questions from GET /api/questions, answers to POST /api/answers, both
// through the reverse proxy, so the page and the API share one origin.
"use strict";

async function getJSON(url, options) {
  const res = await fetch(url, options);
  if (!res.ok) throw new Error(url + ": HTTP " + res.status);
  return res.json();
}

function render(questions) {
  const form = document.getElementById("quiz");
  for (const q of questions) {
    const set = document.createElement("fieldset");
    const legend = document.createElement("legend");
    legend.textContent = q.text;
    set.appendChild(legend);
    q.choices.forEach((choice, i) => {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "radio";
      input.name = String(q.id);
      input.value = String(i);
      label.appendChild(input);
      label.appendChild(document.createTextNode(" " + choice));
      set.appendChild(label);
      set.appendChild(document.createElement("br"));
    });
    form.appendChild(set);
  }
}

async function submit() {
  const answers = {};
  for (const input of document.querySelectorAll("#quiz input:checked"))
    answers[input.name] = Number(input.value);
  const r = await getJSON("/api/answers", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ answers }),
  });
  document.getElementById("score").textContent = "Score: " + r.score + " / " + r.total;
}

async function main() {
  const status = document.getElementById("status");
  try {
    const health = await getJSON("/api/health");
    render(await getJSON("/api/questions"));
    status.textContent = "Backend " + health.status + ", database " + health.database;
    const button = document.getElementById("submit");
    button.hidden = false;
    button.addEventListener("click", () =>
      submit().catch((e) => { status.textContent = e.message; }));
  } catch (e) {
    status.textContent = "The backend did not answer: " + e.message;
  }
}

main();
