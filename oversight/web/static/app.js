// agent-oversight review: small progressive touches; every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Filters that are lists apply as soon as one is chosen.
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form && select.form.submit());
  }

  // Expand or collapse every step on the page.
  for (const button of document.querySelectorAll("[data-details]")) {
    button.addEventListener("click", () => {
      const open = button.dataset.details === "open";
      for (const details of document.querySelectorAll(".step > details")) {
        details.open = open;
      }
    });
  }

  // A step linked from the chart or another page opens when it is the target.
  const openTarget = () => {
    const id = decodeURIComponent(location.hash.slice(1));
    const step = id && document.getElementById(id);
    const details = step && step.querySelector(":scope > details");
    if (details) details.open = true;
  };
  window.addEventListener("hashchange", openTarget);
  openTarget();

  // A slow action (verification) says it is under way.
  for (const link of document.querySelectorAll("a[data-busy]")) {
    link.addEventListener("click", () => {
      link.setAttribute("aria-busy", "true");
      link.textContent = link.dataset.busy;
    });
  }

  // Times are written in UTC; the local time shows on hover.
  for (const time of document.querySelectorAll("time[datetime]")) {
    const when = new Date(time.getAttribute("datetime"));
    if (!Number.isNaN(when.getTime())) time.title = when.toLocaleString();
  }
});
