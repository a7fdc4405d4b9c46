"""A Leaflet control replaying the roll-out quarter by quarter on the zones' vector tiles."""

from __future__ import annotations

from datetime import date

from branca.element import MacroElement
from jinja2 import Template


class ReplayControl(MacroElement):
    """Slider + play button that points the zones layer at `?as_of=<quarter end>`."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var layer = {{ this.layer.get_name() }};
            var base = {{ this.url|tojson }};
            var days = {{ this.days|tojson }};
            var control = L.control({position: 'bottomleft'});
            control.onAdd = function() {
                var div = L.DomUtil.create('div', 'replay');
                div.innerHTML = '<label for="replay-date">État du déploiement : <output id="replay-label">aujourd\\'hui</output></label>' +
                    '<input id="replay-date" type="range" min="0" max="' + days.length + '" value="' + days.length + '" step="1">' +
                    '<button type="button" id="replay-play" aria-label="Rejouer le déploiement trimestre par trimestre">▶ Rejouer</button>';
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            control.addTo({{ this._parent.get_name() }});
            var input = document.getElementById('replay-date');
            var label = document.getElementById('replay-label');
            var timer = null;
            function fr(d) { var p = d.split('-'); return p[2] + '/' + p[1] + '/' + p[0]; }
            function show(i) {
                input.value = i;
                if (i >= days.length) { label.textContent = "aujourd'hui"; layer.setUrl(base); }
                else { label.textContent = fr(days[i]); layer.setUrl(base + '?as_of=' + days[i]); }
            }
            input.addEventListener('input', function() { show(parseInt(input.value, 10)); });
            document.getElementById('replay-play').addEventListener('click', function() {
                if (timer) { clearInterval(timer); timer = null; return; }
                var i = 0; show(i);
                timer = setInterval(function() { i += 1; show(i); if (i >= days.length) { clearInterval(timer); timer = null; } }, 900);
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, layer: MacroElement, url: str, days: list[date]) -> None:
        super().__init__()
        self._name = "ReplayControl"
        self.layer = layer
        self.url = url
        self.days = [d.isoformat() for d in days]
