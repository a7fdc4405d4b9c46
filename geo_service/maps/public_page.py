"""The public page around the map: title, address search with suggestions, the answer as text
outside the map (screen readers, phones), click-anywhere, accessible and responsive."""

from __future__ import annotations

import folium
from branca.element import Element, Figure

from geo_service.maps.assets import localize
from geo_service.maps.page import render_page

CSS = """
<style>
  html, body { height: 100%; margin: 0; font-family: system-ui, "Segoe UI", Roboto, Arial, sans-serif; }
  body { display: flex; flex-direction: column; color: #1a1a1a; background: #ffffff; }
  #entete { order: -2; padding: .5rem 1rem; background: #003366; color: #ffffff; }
  #entete h1 { font-size: 1.3rem; margin: 0 0 .4rem 0; }
  #entete a { color: #ffffff; }
  #recherche { display: flex; gap: .4rem; flex-wrap: wrap; position: relative; }
  #recherche label { width: 100%; font-size: .95rem; }
  #adresse { flex: 1 1 14rem; font-size: 1rem; padding: .45rem; border: 2px solid #ffffff; border-radius: 4px; }
  #adresse:focus, #chercher:focus, #suggestions li:focus { outline: 3px solid #F0E442; }
  #chercher { font-size: 1rem; padding: .45rem .9rem; background: #F0E442; color: #000000; border: 0; border-radius: 4px; cursor: pointer; }
  #suggestions { position: absolute; top: 100%; left: 0; right: 0; z-index: 2000; list-style: none; margin: 0; padding: 0;
                 background: #ffffff; color: #1a1a1a; box-shadow: 0 2px 6px rgba(0,0,0,.3); max-height: 16rem; overflow-y: auto; }
  #suggestions li { padding: .45rem .6rem; cursor: pointer; border-bottom: 1px solid #dddddd; }
  #suggestions li[aria-selected="true"], #suggestions li:hover { background: #d9ecf7; }
  .folium-map { order: 0; flex: 1 1 60vh; min-height: 320px; position: relative !important; }
  #reponse { order: 1; padding: .6rem 1rem; border-top: 3px solid #003366; background: #f5f7fa; font-size: 1rem; }
  #reponse h2 { font-size: 1.1rem; margin: .2rem 0; }
  #reponse .statut { font-weight: bold; }
  #reponse a { color: #0b5394; }
  .legende { background: #ffffff; padding: .4rem .6rem; line-height: 1.5; font-size: .8rem; border-radius: 4px;
             box-shadow: 0 1px 4px rgba(0,0,0,.3); max-width: 15rem; }
  .legende .pastille { display: inline-block; width: .8rem; height: .8rem; margin-right: .4rem; vertical-align: middle; border: 1px solid #555555; }
  .replay { background: #ffffff; padding: .4rem .6rem; border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3); font-size: .85rem; }
  .replay input { width: 12rem; vertical-align: middle; }
  .replay button { margin-left: .3rem; font-size: .85rem; }
  @media (max-width: 600px) { .replay input { width: 7rem; } #entete h1 { font-size: 1.1rem; } .legende { display: none; } .folium-map { flex-basis: 55vh; } }
</style>
"""

HEADER = """
<header id="entete">
  <h1>Plus de débit quand ? — {territory}</h1>
  <form id="recherche" role="search" autocomplete="off">
    <label for="adresse">Votre adresse (numéro, rue, commune) ou cliquez sur la carte :</label>
    <input id="adresse" name="adresse" type="search" placeholder="ex. 3 place de la Mairie, Figeac"
           role="combobox" aria-autocomplete="list" aria-expanded="false" aria-controls="suggestions" minlength="3">
    <button id="chercher" type="submit">Chercher</button>
    <ul id="suggestions" role="listbox" aria-label="Adresses proposées" hidden></ul>
  </form>
</header>
<section id="reponse" aria-live="polite" aria-atomic="true">
  <h2>Quand aurai-je la fibre ?</h2>
  <p>Tapez votre adresse ou cliquez sur la carte pour connaître l'état de la fibre et son calendrier.
  <a href="/communes">Pages des communes et des EPCI</a>.</p>
</section>
"""

SCRIPT = """
document.addEventListener('DOMContentLoaded', function() {
  var map = {map};
  var form = document.getElementById('recherche');
  var input = document.getElementById('adresse');
  var list = document.getElementById('suggestions');
  var panel = document.getElementById('reponse');
  var marker = null, timer = null, active = -1;
  function esc(s) { return String(s == null ? '' : s).replace(/[&<>"']/g, function(c) {
    return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]; }); }
  function frDate(s) { var p = String(s).split('-'); return p.length === 3 ? p[2] + '/' + p[1] + '/' + p[0] : s; }
  function show(data) {
    var near = data.a_proximite || {};
    var html = '<h2>' + esc(data.adresse ? data.adresse + ', ' + data.commune.nom : data.commune.nom) + '</h2>' +
      '<p class="statut" data-statut="' + esc(data.statut) + '">' + esc(data.reponse) + '</p>';
    var facts = [];
    if (near.wifi) { facts.push('Borne WiFi publique la plus proche : ' + esc(near.wifi.nom) + ' à ' + esc(near.wifi.distance_m) + ' m' + (near.wifi.couvert ? ' (vous êtes dans sa zone)' : '')); }
    if (near.med) { facts.push('Montée en débit de la commune : ' + esc(near.med.nom) + (near.med.ouverture ? (near.med.ouverture_prevue ? ' (ouverture prévue le ' : ' (ouverte le ') + esc(frDate(near.med.ouverture)) + ')' : ' (pas encore ouverte)')); }
    if (near.mobile) { facts.push('Site mobile le plus proche : ' + esc(near.mobile.nom) + ' à ' + esc(near.mobile.distance_m) + ' m (' + esc(near.mobile.etat).toLowerCase().replace(/_/g, ' ') + ')' + (near.mobile.en_retard ? ' — en retard : échéance légale du ' + esc(frDate(near.mobile.echeance)) + ' dépassée' : (near.mobile.echeance && near.mobile.etat !== 'EN_SERVICE' ? ' — échéance légale : ' + esc(frDate(near.mobile.echeance)) : ''))); }
    if (data.cuivre && data.cuivre.reponse) { facts.push('Réseau cuivre : ' + esc(data.cuivre.reponse)); }
    if (data.aide_satellite) { facts.push(esc(data.aide_satellite)); }
    if (facts.length) { html += '<ul><li>' + facts.join('</li><li>') + '</li></ul>'; }
    panel.innerHTML = html;
    var pos = data.position;
    if (marker) { map.removeLayer(marker); }
    marker = L.marker([pos.lat, pos.lon], {alt: 'Adresse choisie'}).addTo(map).bindPopup('<strong>' + esc(data.adresse || data.commune.nom) + '</strong><br>' + esc(data.reponse)).openPopup();
  }
  function fail(message) { panel.innerHTML = '<h2>Quand aurai-je la fibre ?</h2><p class="statut" data-statut="ERREUR">' + esc(message) + '</p>'; }
  function ask(params) {
    fetch('/api/v1/quand?' + new URLSearchParams(params)).then(function(r) {
      return r.json().then(function(body) { if (!r.ok) { throw new Error(body.detail || 'Erreur'); } return body; });
    }).then(show).catch(function(e) { fail(e.message); });
  }
  function close() { list.hidden = true; input.setAttribute('aria-expanded', 'false'); input.removeAttribute('aria-activedescendant'); active = -1; }
  function choose(item) { input.value = item.adresse; close(); map.setView([item.lat, item.lon], 17); ask({lat: item.lat, lon: item.lon}); }
  function suggest() {
    var q = input.value.trim();
    if (q.length < 3) { close(); return; }
    fetch('/api/v1/adresses?' + new URLSearchParams({q: q})).then(function(r) { return r.ok ? r.json() : []; }).then(function(items) {
      list.innerHTML = ''; active = -1; input.removeAttribute('aria-activedescendant');
      items.forEach(function(item, i) {
        var li = document.createElement('li'); li.id = 'suggestion-' + i; li.setAttribute('role', 'option');
        li.textContent = item.adresse; li.addEventListener('mousedown', function(ev) { ev.preventDefault(); choose(item); });
        li._item = item; list.appendChild(li);
      });
      list.hidden = items.length === 0; input.setAttribute('aria-expanded', items.length ? 'true' : 'false');
    });
  }
  input.addEventListener('input', function() { clearTimeout(timer); timer = setTimeout(suggest, 180); });
  input.addEventListener('keydown', function(ev) {
    var items = list.querySelectorAll('li');
    if (ev.key === 'ArrowDown' && items.length) { ev.preventDefault(); active = (active + 1) % items.length; }
    else if (ev.key === 'ArrowUp' && items.length) { ev.preventDefault(); active = (active - 1 + items.length) % items.length; }
    else if (ev.key === 'Escape') { if (!list.hidden) { ev.preventDefault(); close(); } return; }  // keep the text; a 2nd Escape clears it
    else { return; }
    items.forEach(function(li, i) { li.setAttribute('aria-selected', i === active ? 'true' : 'false'); });
    input.setAttribute('aria-activedescendant', items[active].id);
  });
  form.addEventListener('submit', function(ev) {
    ev.preventDefault();
    var items = list.querySelectorAll('li');
    if (active >= 0 && items[active]) { choose(items[active]._item); return; }
    close(); if (input.value.trim().length >= 3) { ask({adresse: input.value.trim()}); }
  });
  map.on('click', function(e) { ask({lat: e.latlng.lat, lon: e.latlng.lng}); });
  // The replay slider says the date it shows, not its position (the label changes when sliding or replaying).
  var replay = document.getElementById('replay-date'), replayLabel = document.getElementById('replay-label');
  if (replay && replayLabel) {
    var sayDate = function() { replay.setAttribute('aria-valuetext', replayLabel.textContent); };
    new MutationObserver(sayDate).observe(replayLabel, {childList: true, characterData: true, subtree: true});
    sayDate();
  }
});
"""


def render_public_page(fmap: folium.Map, *, territory_name: str) -> str:
    """Full HTML page: header with search, the map, the answer panel."""
    localize(fmap)
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root.header.add_child(Element(CSS))  # type: ignore[attr-defined]
    root.html.add_child(Element(HEADER.replace("{territory}", territory_name)))  # type: ignore[attr-defined]
    root.script.add_child(Element(SCRIPT.replace("{map}", fmap.get_name())))  # type: ignore[attr-defined]
    return render_page(fmap, title=f"Plus de débit quand ? — {territory_name}")
