package dev.iommulab.lab.machine;

import com.google.inject.Module;
import dev.iommulab.core.policy.Policies;
import dev.iommulab.core.policy.PolicyChoice;
import dev.iommulab.core.policy.PolicyException;
import dev.iommulab.core.policy.PolicyModule;
import dev.iommulab.vfio.Iommufd;
import dev.iommulab.vfio.IommufdFault;
import java.util.List;
import java.util.Map;

/**
 * Registers the user-space view's policies in the {@code MapBinder<String, Policy>} of {@link Policies}:
 * {@code vfio.user-response} ({@link UserspaceResponse#MODES}, default {@code resolve-and-succeed}; parameter
 * {@code read-bytes}, key {@code vfio.user-response.read-bytes}, a positive multiple of 40, default 1280) and
 * {@code vfio.replace-auto-response} ({@code intended} | {@code legacy-2025}, {@link Iommufd.ReplaceAutoResponse}).
 * They live in the lab because the client is a lab choice, not a kernel one; {@link #defaults()} binds the defaults.
 */
final class UserspacePolicyModule extends PolicyModule {

    static final String USER_RESPONSE = "vfio.user-response";
    static final String READ_BYTES = "read-bytes";
    static final String REPLACE_AUTO_RESPONSE = "vfio.replace-auto-response";
    private static final Map<String, Iommufd.ReplaceAutoResponse> REPLACE = Map.of("intended",
            Iommufd.ReplaceAutoResponse.INTENDED, "legacy-2025", Iommufd.ReplaceAutoResponse.LEGACY_2025);

    @Override
    protected void configure() {
        Policies.binder(binder()).addBinding(USER_RESPONSE).toInstance(new PolicyChoice(UserspaceResponse.MODES,
                List.of(READ_BYTES), (value, parameters) -> PolicyChoice.bind(UserspaceResponse.class,
                        new UserspaceResponse(value, readBytes(parameters)))));
        Policies.binder(binder()).addBinding(REPLACE_AUTO_RESPONSE).toInstance(PolicyChoice.binding(
                Iommufd.ReplaceAutoResponse.class, List.of("intended", "legacy-2025"), REPLACE::get));
    }

    private static int readBytes(Map<String, String> parameters) {
        int bytes = Policies.positiveInt(USER_RESPONSE, parameters, READ_BYTES, UserspaceResponse.DEFAULT_READ_BYTES);
        if (bytes % IommufdFault.RECORD_SIZE != 0) {
            throw new PolicyException(USER_RESPONSE + "." + READ_BYTES, "expected a positive multiple of "
                    + IommufdFault.RECORD_SIZE + " (the size of struct iommu_hwpt_pgfault), found " + bytes);
        }
        return bytes;
    }

    /** The default bindings, installed by {@link LabModule}. */
    static Module defaults() {
        return binder -> {
            binder.bind(UserspaceResponse.class).toInstance(UserspaceResponse.DEFAULT);
            binder.bind(Iommufd.ReplaceAutoResponse.class).toInstance(Iommufd.ReplaceAutoResponse.INTENDED);
        };
    }
}
