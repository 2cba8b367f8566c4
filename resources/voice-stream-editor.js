// Editor helpers shared by the suite's node dialogs. Node-RED serves a module's resources/
// folder at resources/<module>/, and each node's .html loads this file before registerType.
(function () {
    "use strict";
    /** A validator for an optional numeric field: blank is allowed, else a number in [min, max] (whole when `integer`). */
    function optionalNumber(min, max, integer) {
        return function (v) {
            if (v === undefined || v === null || String(v).trim() === "") { return true; }
            var n = Number(v);
            return Number.isFinite(n) && n >= min && n <= max && (!integer || Number.isInteger(n));
        };
    }
    window.VoiceStreamEditor = { optionalNumber: optionalNumber };
})();
