package dev.iommulab.hw.pci;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.pgtable.Access;
import java.util.List;

/**
 * Finds how one page of a work item is addressed (reference §1.3, §1.4; DESIGN.md §3 steps 1-3 and 8):
 * <ul>
 *   <li>without ATS: untranslated requests, the IOMMU translates;</li>
 *   <li>ATC hit granting the access: translated requests;</li>
 *   <li>otherwise an ATS Translation Request (it takes a read tag). Its completion:
 *     <ul>
 *       <li>Success granting the access: cached in the ATC, translated requests;</li>
 *       <li>Success with partial rights (e.g. R=1 W=0 for a write): the rights are cached (later reads hit),
 *           and the page is requested for the access that is missing (a write PR);</li>
 *       <li>Success with R=W=0: "not accessible now", nothing cached; a page request group through PRI;</li>
 *       <li>UR (ATS refused: disabled or a permanent configuration problem) / CA (configuration error while
 *           walking): the work item fails with that status;</li>
 *       <li>nullified by an overlapping ATS invalidation: discarded and asked again.</li>
 *     </ul></li>
 *   <li>PRG response Success: retry the translation (at most {@code maxPriRetries} times per page); Invalid
 *       Request: fail {@code invalid}; Response Failure: fail {@code pri-failed}. Without usable PRI a
 *       not-accessible page fails the work item ({@code pri-failed} when RF is set, else {@code ur}).</li>
 * </ul>
 */
final class PageTranslator {

    private static final long PAGE = Atc.PAGE;

    private final PcieEndpoint ep;
    private final DmaEngine engine;
    private final DmaJob job;
    private int retries;

    PageTranslator(PcieEndpoint ep, DmaEngine engine, DmaJob job) {
        this.ep = ep;
        this.engine = engine;
        this.job = job;
    }

    boolean pasidTagged() {
        return job.pasid() >= 0 && ep.pasidEnabled();
    }

    /** The PASID the function tags its requests and ATC entries with, or -1. */
    int pasidTag() {
        return pasidTagged() ? job.pasid() : -1;
    }

    private boolean priv() {
        return job.privileged() && pasidTagged();
    }

    private boolean needWrite() {
        return !engine.readsDescriptor() && job.access() == Access.WRITE;
    }

    private boolean needExec() {
        return !engine.readsDescriptor() && job.access() == Access.EXEC;
    }

    /** The current page moved on: the retry budget is per page. */
    void pageDone() {
        retries = 0;
    }

    void resolve(long page) {
        if (!ep.atsEnabled()) {
            engine.translated(AddressType.UNTRANSLATED, page);
            return;
        }
        Atc.Entry cached = ep.atc.lookup(pasidTag(), priv(), page);
        if (cached != null && cached.grants(needWrite(), needExec())) {
            engine.translated(AddressType.TRANSLATED, cached.translate(page));
            return;
        }
        translationRequest(page);
    }

    private void translationRequest(long page) {
        ReadTags.Tag tag = ep.tags().allocate(ReadTags.Kind.TRANSLATION, pasidTag(), page, false);
        if (tag == null) {
            ep.tags().whenFree(() -> {
                if (engine.live()) {
                    translationRequest(page);
                }
            });
            return;
        }
        engine.nonPostedIssued();
        AtsTranslationRequest tr = new AtsTranslationRequest(ep.rid(), pasidTagged(), Math.max(job.pasid(), 0), page,
                !needWrite(), needExec(), priv());
        ep.loop().schedule(ep.timing().pcieTlpNs(), "ats-translation-request", () -> {
            AtsCompletion completion = ep.iommu().translationRequest(tr);
            ep.loop().schedule(ep.timing().iommuWalkNs() + ep.timing().pcieTlpNs(), "ats-completion",
                    () -> onCompletion(tag, page, completion));
        });
    }

    private void onCompletion(ReadTags.Tag tag, long page, AtsCompletion c) {
        ep.tags().retire(tag);
        if (!engine.nonPostedReturned()) {
            return;
        }
        String name = ep.config().name();
        if (tag.nullified) {
            engine.trace("ats", "%s discards the ATS completion for %#x: an invalidation overlapped it",
                    name, page);
            translationRequest(page);
            return;
        }
        if (c.status() != CompletionStatus.SUCCESS) {
            engine.trace("ats", "%s ATS completion %s: %s", name, c.status(), c.status() == CompletionStatus.UR
                    ? "translation refused (ATS off or permanent configuration problem)"
                    : "configuration error while translating");
            engine.fail(c.status() == CompletionStatus.UR ? DmaStatus.UR : DmaStatus.CA, engine.cursor());
            return;
        }
        if (c.read() || c.write()) {
            ep.atc.fill(pasidTag(), priv(), page, c);
        } else {
            ep.atc.drop(pasidTag(), priv(), page);
        }
        if (c.grants(needWrite(), needExec())) {
            engine.trace("ats", "%s ATS completion Success R=%d W=%d -> %#x, fills ATC", name, bit(c.read()),
                    bit(c.write()), c.translatedAddr());
            long size = Atc.translationSize(c);
            engine.translated(AddressType.TRANSLATED, c.translatedAddr() + (page - (page & -size)));
            return;
        }
        engine.trace("ats", "%s ATS completion Success R=%d W=%d for %#x: not accessible for %s", name,
                bit(c.read()), bit(c.write()), page, needWrite() ? "write" : needExec() ? "exec" : "read");
        notAccessible(page);
    }

    private static int bit(boolean set) {
        return set ? 1 : 0;
    }

    private void notAccessible(long page) {
        if (!ep.pri().usable()) {
            engine.fail(ep.pri().state().responseFailure() ? DmaStatus.PRI_FAILED : DmaStatus.UR, engine.cursor());
            return;
        }
        int prgi = ep.pri().allocatePrgi();
        if (prgi < 0) {
            ep.loop().schedule(ep.timing().pcieTlpNs(), "prgi-wait", () -> {
                if (engine.live()) {
                    notAccessible(page);
                }
            });
            return;
        }
        List<PageRequestMessage> group = groupFor(page, prgi);
        ep.pri().sendGroup(group, new PriCapability.GroupListener() {
            @Override
            public void answered(PrgResponseCode code) {
                onPrgResponse(page, code);
            }

            @Override
            public void abandoned() {
                if (engine.live()) {
                    notAccessible(page);
                }
            }
        });
    }

    /**
     * One page, or — for a profile that requests ranges — every page from {@code page} to the end of the
     * transfer, capped by the PRI allocation (a bigger group could never get all its credits).
     */
    private List<PageRequestMessage> groupFor(long page, int prgi) {
        int pages = 1;
        if (ep.profile().requestsRange(ep.config().options())) {
            long remaining = (engine.segmentEnd() - page + PAGE - 1) / PAGE;
            pages = (int) Math.max(1, Math.min(remaining, ep.pri().state().allocation()));
        }
        boolean tagged = pasidTagged();
        PageRequestMessage[] group = new PageRequestMessage[pages];
        for (int i = 0; i < pages; i++) {
            group[i] = new PageRequestMessage(ep.rid(), tagged, Math.max(job.pasid(), 0), needExec() && tagged, priv(),
                    !needWrite() || needExec(), needWrite(), i == pages - 1, prgi, page + i * PAGE);
        }
        return List.of(group); // immutable already: the PRI capability keeps it without a copy
    }

    private void onPrgResponse(long page, PrgResponseCode code) {
        if (!engine.live()) {
            return;
        }
        switch (code) {
            case SUCCESS -> {
                if (++retries > ep.config().maxPriRetries()) {
                    engine.fail(DmaStatus.RETRY_LIMIT, engine.cursor());
                } else {
                    translationRequest(page);
                }
            }
            case INVALID_REQUEST -> engine.fail(DmaStatus.INVALID, engine.cursor());
            case RESPONSE_FAILURE -> engine.fail(DmaStatus.PRI_FAILED, engine.cursor());
            default -> throw new AssertionError(code);
        }
    }
}
