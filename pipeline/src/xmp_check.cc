#include "xmp_check.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <cstring>
#include <memory>
#include <mutex>

namespace acervo {
namespace {

constexpr char kDc[] = "http://purl.org/dc/elements/1.1/";
constexpr char kPdfaId[] = "http://www.aiim.org/pdfa/ns/id/";
constexpr char kRdf[] = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

bool Is(const xmlNode* n, const char* ns, const char* name) {
  return n->type == XML_ELEMENT_NODE && n->ns != nullptr && n->ns->href != nullptr &&
         std::strcmp(reinterpret_cast<const char*>(n->ns->href), ns) == 0 &&
         std::strcmp(reinterpret_cast<const char*>(n->name), name) == 0;
}

std::string Content(const xmlNode* n) {
  xmlChar* c = xmlNodeGetContent(n);
  std::string s = c != nullptr ? reinterpret_cast<const char*>(c) : "";
  xmlFree(c);
  return s;
}

// A language alternative (rdf:Alt of rdf:li): the x-default entry, else the
// first; a simple property: its text.
std::string Value(const xmlNode* n) {
  for (const xmlNode* c = n->children; c != nullptr; c = c->next) {
    if (!Is(c, kRdf, "Alt") && !Is(c, kRdf, "Seq") && !Is(c, kRdf, "Bag")) continue;
    std::string first;
    for (const xmlNode* li = c->children; li != nullptr; li = li->next) {
      if (!Is(li, kRdf, "li")) continue;
      xmlChar* lang = xmlNodeGetLang(li);
      const bool is_default = lang != nullptr && std::strcmp(reinterpret_cast<const char*>(lang), "x-default") == 0;
      xmlFree(lang);
      if (is_default) return Content(li);
      if (first.empty()) first = Content(li);
    }
    return first;
  }
  return Content(n);
}

void Walk(const xmlNode* n, XmpFacts* f) {
  for (; n != nullptr; n = n->next) {
    if (Is(n, kDc, "title")) f->title = Value(n);
    else if (Is(n, kDc, "description")) f->description = Value(n);
    else if (Is(n, kDc, "identifier")) f->identifier = Value(n);
    else if (Is(n, kPdfaId, "part")) f->pdfa_part = Content(n);
    else if (Is(n, kPdfaId, "conformance")) f->pdfa_conformance = Content(n);
    else Walk(n->children, f);
  }
}

}  // namespace

Result<XmpFacts> ParseXmp(const std::string& packet) {
  static std::once_flag init;
  std::call_once(init, [] { xmlInitParser(); });
  xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
  if (ctxt == nullptr) return Status::Internal("XMP: cannot make an XML parser");
  std::unique_ptr<xmlParserCtxt, decltype(&xmlFreeParserCtxt)> owned_ctxt(ctxt, &xmlFreeParserCtxt);
  const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
  xmlDocPtr doc = xmlCtxtReadMemory(ctxt, packet.data(), static_cast<int>(packet.size()), "xmp.xml", nullptr, options);
  if (doc == nullptr) {
    const xmlError* e = xmlCtxtGetLastError(ctxt);
    std::string why = e != nullptr && e->message != nullptr ? e->message : "not well-formed";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return Status::Corrupt("XMP packet is not well-formed XML (line " + std::to_string(e != nullptr ? e->line : 0) +
                           "): " + why);
  }
  std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> owned(doc, &xmlFreeDoc);
  if (doc->intSubset != nullptr) return Status::Corrupt("XMP packet has a DTD");
  XmpFacts facts;
  Walk(xmlDocGetRootElement(doc), &facts);
  return facts;
}

}  // namespace acervo
