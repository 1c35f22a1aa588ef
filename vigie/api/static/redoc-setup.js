// ReDoc's styled-components inserts rules through a <style> element's sheet, which the pages' CSP
// (style-src 'self') leaves without one; its plain mode does not crash on that.
"use strict";
window.SC_DISABLE_SPEEDY = true;
