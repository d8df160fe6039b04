package dev.iommulab.vfio;

import com.google.inject.AbstractModule;

/**
 * The iommufd / VFIO user-space view. It binds nothing yet: the fault object ({@link IommufdFault}) exists, the
 * iommufd context, HWPTs and device attachment that create it come next; the module exists so a machine is always
 * assembled from one Guice module per layer and tests can already override this layer.
 */
public final class VfioModule extends AbstractModule {
}
